"""ids -> probability: the network, in NumPy (numpy_rnn, the file a learner opens first) and Keras.

numpy_rnn is the seed notebook's loop on the trained weights; keras_model builds and compiles the
Keras twin; batching groups reviews by length; callbacks hold the pieces of one Keras epoch;
verdict turns a probability into a label. Only keras_model and callbacks import TensorFlow, and
only when they are used.
"""
