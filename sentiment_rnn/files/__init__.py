"""Bytes on disk <-> the flow: users' files as records, and a run folder's files.

streams (bytes -> checked lines) -> readers (lines -> records -> texts and labels, with columns
saying which field is which); atomic writes and careful reads; the run folder, its state.json and
its weights, checked before anything trusts them. Nothing here imports TensorFlow.
"""
