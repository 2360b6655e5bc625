"""The API's JSON parser: DRF's, with a body nested past Python's recursion limit answered as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """`[[[[...]]]]` a hundred thousand deep makes json raise RecursionError, which DRF would let become
    a 500; it is malformed input like any other."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON 嵌套层级过深 / the JSON is nested too deeply") from None
