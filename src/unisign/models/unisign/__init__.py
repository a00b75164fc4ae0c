"""Uni-Sign: the modules that travel with the weights (`remote_code.SHIPPED_MODULES`); public names are `unisign.*`."""
