"""``WeightDropLSTM``: AWD-LSTM's weight drop (DropConnect on the recurrent kernel) on a Keras LSTM."""

import keras


@keras.saving.register_keras_serializable(package="zoo")
class WeightDropLSTM(keras.layers.LSTM):
    """``keras.layers.LSTM`` with DropConnect on the recurrent kernel (AWD-LSTM's weight drop).

    One mask per batch is applied to the hidden-to-hidden matrix, so the
    recurrence is regularised without touching the fast LSTM kernels (cuDNN
    on GPU): the layer runs the parent's loop with the dropped matrix in the
    recurrent kernel's place. Keras has no weight drop; PyTorch's AWD-LSTM
    does the same swap. The weights are a plain LSTM's, in the same order,
    so they load into ``keras.layers.LSTM`` unchanged.

    Args:
        units: state width.
        weight_dropout: fraction of recurrent-kernel entries dropped while
            training.
        **kwargs: ``keras.layers.LSTM`` arguments.
    """

    def __init__(self, units, weight_dropout=0.0, **kwargs):
        super().__init__(units, **kwargs)
        self.weight_dropout = weight_dropout
        self.weight_seed_generator = keras.random.SeedGenerator(kwargs.get("seed"))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not (training and self.weight_dropout):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        kernel = cell.recurrent_kernel
        dropped = keras.random.dropout(kernel.value, self.weight_dropout, seed=self.weight_seed_generator)
        # object.__setattr__: Keras' attribute tracking must not see the swap.
        object.__setattr__(cell, "recurrent_kernel", dropped)
        try:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        finally:
            object.__setattr__(cell, "recurrent_kernel", kernel)

    def get_config(self):
        return {**super().get_config(), "weight_dropout": self.weight_dropout}
