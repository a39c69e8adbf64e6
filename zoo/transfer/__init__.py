"""Transfer learning: where a model's knowledge comes from before it sees your labels.

* :mod:`zoo.transfer.vectors`: pretrained word vectors (gensim ``KeyedVectors``) and the embedding matrix;
* :mod:`zoo.transfer.pretrained`: language-model artifacts, their checksummed manifest, loading;
* :mod:`zoo.transfer.encoder`: weight transfer by layer name, vocabulary remapping;
* :mod:`zoo.transfer.ulmfit`: ULMFiT's language-model fine-tuning, stages and linear probe;
* :mod:`zoo.transfer.pretraining`: pretraining a language model on offline English text.
"""
