# Allocation-failure tests: the allocation functions are wrapped at link
# time so a test can make the Nth allocation fail (see test_alloc.c).
oab_add_unit_test(test_alloc test_alloc.c)
target_link_options(test_alloc PRIVATE
  "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=free")
