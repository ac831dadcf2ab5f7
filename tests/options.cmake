# Tests of the options rule (include/oaibatch.h, "Options structs"): every
# options struct and every entry point that takes one, the builders' field
# checks, oab_client_new_v2's messages.
oab_add_unit_test(test_options test_options.c)
