"""Serving: the raw-text SavedModel export (:mod:`zoo.serving.export`) and classifying with it (:mod:`zoo.serving.predict`)."""
