"""The simulator's parts: the generators, the signing and the simulate command's work.

The faust app and the command's options stay in ``streams.simulator`` (``faust -A
streams.simulator simulate ...``).
"""
