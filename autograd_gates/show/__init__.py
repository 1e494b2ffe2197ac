"""Pictures and text: the derivation trace, circuit drawings, the backward stepper, the gate reference."""
