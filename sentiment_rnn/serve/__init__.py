"""`sentiment-rnn serve`: the model on a web page and behind a small JSON API, on the NumPy path.

app holds the routes; guard stands between them and a hostile client (Host, Origin, sizes,
timeouts); bodies checks what goes in and out; static/ is the page. Never imports TensorFlow.
"""
