"""The engine: the gate table, ``Value`` and its backward pass, errors and input checks."""
