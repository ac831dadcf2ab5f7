oab_add_unit_test(test_core test_core.c)
