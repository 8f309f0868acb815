"""Inside a trained model: how it reads a text word by word (trace), and its weights (overview).

Runs on the NumPy pass: inspecting never imports TensorFlow (except `--check`, which compares the
NumPy pass with Keras).
"""
