"""The model unit's refusals of a user's input: a clip, a prompt language, a config or a decoding setting.

The unit travels as remote code and imports only itself and libraries, so it cannot raise the package's error types
(`unisign.utils.errors`). It raises `UniSignInputError`, a `ValueError` (what the checks raised before, so callers
that catch `ValueError` still do), marked with the class attribute `unisign_input_error`: the package's command lines
report an error so marked in one line (exit status 1), while any other `ValueError` from the unit is a bug and keeps
its traceback. The mark, rather than the class, is what they look for: a copy of this module loaded as remote code
(`transformers_modules.<folder>.errors_unisign`) defines another class of the same name.
"""


class UniSignInputError(ValueError):
    """An input the Uni-Sign unit refuses (a user's mistake, not a bug in the unit).

    A clip of the wrong shape, without frames or with NaN keypoints, keypoints in pixels without a frame size, a video
    that cannot be decoded, a language without a prompt, a config out of range, more beams or new tokens than allowed.
    """

    unisign_input_error = True  # read by `unisign.utils.errors.is_input_error`


__all__ = ["UniSignInputError"]
