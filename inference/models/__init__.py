"""Pure scoring models: no HTTP, no framework, no randomness.

Each module exposes typed dataclass inputs and outputs, one entry function and a
MODEL_VERSION, so a trained model can later replace a rule set behind the same interface.
"""
