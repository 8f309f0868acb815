"""(texts, labels) -> prepared ids: IMDB through tfds or the user's files, checked, split, encoded.

imdb (tfds) and the readers give labelled texts; checks name data that would train a wrong model;
prepare splits training and validation parts and builds the vocabulary; id_store keeps the ids in
the run folder; teacher scores texts, and distil labels the unlabelled ones with it. Sits below
nn/: it never imports TensorFlow at import time (tfds and scikit-learn are imported inside the
functions that need them).
"""
