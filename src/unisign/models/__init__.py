"""The models of the package, one folder each: `unisign/` is the unit that travels with the weights as remote code."""
