"""Bytes on disk <-> the flow: users' files as records, and a run folder's files.

streams (bytes -> checked lines) -> records (lines -> records, by format) -> readers (records ->
texts and labels, with columns saying which field is which); atomic writes and careful reads; run
folders made, locked and found (run_dirs), the run folder read (run_folder), its state.json and
its weights, checked before anything trusts them. Nothing here imports TensorFlow.
"""
