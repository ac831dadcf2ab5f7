# Unit tests of the util layer (src/util/): one test file per module.
oab_add_unit_test(test_util_json_scan test_util_json_scan.c)
oab_add_unit_test(test_util_idset test_util_idset.c)
