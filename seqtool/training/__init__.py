"""The shared training lifecycle: the loop, runtime (seeds, RNG, DDP, Ctrl-C), checkpoints, reports.

Used by seqtool.lm and seqtool.classify; imports nothing of them.
"""
