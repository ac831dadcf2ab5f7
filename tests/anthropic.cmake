# Anthropic Message Batches (issue 16): the I/O-free translation both ways
# on the cases in tests/data/anthropic/, and the library's round trip
# through tests/anthropic_mock.py.
oab_add_unit_test(test_anthropic_translate test_anthropic_translate.c)
