"""Standardizers for ``TextVectorization``: what a text's tokens are, in TensorFlow ops only.

Keras' default, ``"lower_and_strip_punctuation"``, deletes punctuation rather
than splitting on it: ``it<br />the`` becomes ``itbrthe`` and ``you've``
becomes ``youve``, words that no pretrained vector knows. ``"zoo"`` keeps what
the text says, the way GloVe 6B (Stanford tokenizer) was tokenized:

* lower case (Unicode-aware);
* HTML tags and entities removed (``<br />``, ``&amp;``);
* URLs and e-mail addresses become the tokens ``url`` and ``email``;
* contractions split as in GloVe: ``don't`` -> ``do n't``, ``you've`` ->
  ``you 've``, ``john's`` -> ``john 's``;
* every other punctuation mark becomes a token of its own (``fun!`` -> ``fun !``);
  letters, digits and accents of any script are kept (``café`` stays one token).

``"zoo_words"`` is the same without the punctuation tokens: the n-gram path's
tokens (a bigram of a word and a comma says little).

The functions are registered Keras objects, so a ``TextVectorization`` that
uses them saves and loads, and they run inside an exported SavedModel, which
then needs only TensorFlow.

Example:

>>> [t.decode() for t in standardize_text(tf.constant(["It's <b>GREAT</b>, isn't it?"])).numpy()]
["it 's  great  ,  is n't it ? "]
"""

import keras

from zoo.backend import require_tensorflow

require_tensorflow("zoo.data.tokenize (the tokenizer's TensorFlow string ops)")

import tensorflow as tf  # noqa: E402

from zoo.errors import ConfigError

# RE2 syntax (tf.strings.regex_replace): no look-around, \pL letters, \pN digits, \pM combining marks.
_TAG = r"<[a-zA-Z/!?][^<>]{0,300}>"
_ENTITY = r"&(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});"
_URL = r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"  # not a trailing full stop or comma
_EMAIL = r"[\pL\pN._%+-]+@[\pL\pN-]+(?:\.[\pL\pN-]+)+"
_QUOTE_BEFORE = r"(^|[^\pL\pN])'"  # an apostrophe that opens a quote
_QUOTE_AFTER = r"'([^\pL\pN]|$)"  # ... or closes one (dogs' -> dogs ')
_NOT = r"(\pL)n't\b"
_CLITIC = r"(\pL)'(s|ve|re|ll|d|m)\b"
_PUNCTUATION = r"([^\pL\pN\pM\s'])"


def _standardize(texts, keep_punctuation):
    x = tf.strings.lower(texts, encoding="utf-8")
    x = tf.strings.regex_replace(x, "[\u2018\u2019\u02bc]", "'")  # typographic apostrophes
    x = tf.strings.regex_replace(x, _TAG, " ")
    x = tf.strings.regex_replace(x, "&(?:amp|#0*38);", " & ")
    x = tf.strings.regex_replace(x, _ENTITY, " ")
    x = tf.strings.regex_replace(x, _URL, " url ")
    x = tf.strings.regex_replace(x, _EMAIL, " email ")
    quote = r" ' " if keep_punctuation else " "
    x = tf.strings.regex_replace(x, _QUOTE_BEFORE, r"\1" + quote)
    x = tf.strings.regex_replace(x, _QUOTE_AFTER, quote + r"\1")
    x = tf.strings.regex_replace(x, _NOT, r"\1 n't")
    x = tf.strings.regex_replace(x, _CLITIC, r"\1 '\2")
    return tf.strings.regex_replace(x, _PUNCTUATION, r" \1 " if keep_punctuation else " ")


@keras.saving.register_keras_serializable(package="zoo")
def standardize_text(texts):
    """The ``"zoo"`` standardizer: lower case, HTML removed, contractions and punctuation split off."""
    return _standardize(texts, keep_punctuation=True)


@keras.saving.register_keras_serializable(package="zoo")
def standardize_words(texts):
    """The ``"zoo_words"`` standardizer: as ``"zoo"``, without punctuation tokens.

    Example:

    >>> standardize_words(tf.constant(["Don't stop!!"])).numpy()[0].decode().split()
    ['do', "n't", 'stop']
    """
    return _standardize(texts, keep_punctuation=False)


STANDARDIZERS = {"zoo": standardize_text, "zoo_words": standardize_words,
                 "lower_and_strip_punctuation": "lower_and_strip_punctuation"}


def standardizer(name):
    """The ``standardize`` argument of ``TextVectorization`` for a standardizer's name.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in STANDARDIZERS:
        raise ConfigError("standardize", f"`standardize` must be one of {', '.join(STANDARDIZERS)}, got {name!r}")
    return STANDARDIZERS[name]


def standardizer_name(value):
    """The name of a ``TextVectorization``'s ``standardize`` value (a name or one of zoo's functions)."""
    if isinstance(value, str):
        return value
    for name, function in STANDARDIZERS.items():
        if function is value:
            return name
    raise ConfigError("standardize", f"a vectorizer with a standardizer zoo does not know: {value!r}")
