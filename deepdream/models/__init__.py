"""The network zoo: which networks there are, their weights, and the model a dream runs on.

``catalog`` lists the networks (pure Python, read by ``config``); ``feature_model`` is the
``FeatureModel`` a dream runs on; ``inception_v3`` and ``vgg16_offline`` build one each;
``loading`` chooses which one dreams (the fallback policy) and keeps them (``shared_model``);
``weights`` says where weights come from and imports them; ``folding``, ``precision`` and
``runtime`` make the model fast on the machine at hand. This ``__init__`` imports nothing,
so ``config`` can read the catalog without TensorFlow.
"""
