# JSON Schema: the oab_schema object, strict rewrite, validator, JSON
# extraction from model text, and the official JSON Schema Test Suite.
oab_add_unit_test(test_schema test_schema.c)
oab_add_unit_test(test_schema_suite test_schema_suite.c)
