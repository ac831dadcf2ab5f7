/* weather_tools.h - the two tools of the seed's "Using Tools" example:
 * their definitions (as pydantic-ai derives them from the Python functions
 * get_weather(location: str, units: str = "celsius") and
 * calculate(expression: str)) and local implementations, so the examples
 * can answer the calls a model makes. */
#ifndef OAB_EXAMPLES_WEATHER_TOOLS_H
#define OAB_EXAMPLES_WEATHER_TOOLS_H

#include <stddef.h>

#include "oaibatch.h"

#define EX_N_TOOLS 2

/* { get_weather, calculate } */
extern const oab_tool ex_tools[EX_N_TOOLS];

/* Runs tool `name` with its JSON `arguments` (as the model wrote them) and
 * writes what the tool returns into out. Returns 0 when the tool ran
 * (its answer may still say "Error: ..." as the seed's does), -1 for an
 * unknown tool. Check oab_tool_call.arguments_valid before calling. */
int ex_run_tool(const char *name, const char *arguments, char *out,
                size_t size);

#endif /* OAB_EXAMPLES_WEATHER_TOOLS_H */
