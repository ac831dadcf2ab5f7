/* weather_tools.c - see weather_tools.h. */
#include "weather_tools.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "calc.h"
#include "common.h"

/* pydantic-ai builds a tool's parameters from the function signature (the
 * RunContext argument left out), its description from the docstring. */
const oab_tool ex_tools[EX_N_TOOLS] = {
    {"get_weather", "Get current weather information for a location.",
     "{\"additionalProperties\":false,"
     "\"properties\":{\"location\":{\"type\":\"string\"},"
     "\"units\":{\"default\":\"celsius\",\"type\":\"string\"}},"
     "\"required\":[\"location\"],\"type\":\"object\"}",
     0},
    {"calculate", "Perform mathematical calculations.",
     "{\"additionalProperties\":false,"
     "\"properties\":{\"expression\":{\"type\":\"string\"}},"
     "\"required\":[\"expression\"],\"type\":\"object\"}",
     0},
};

static int get_weather(const char *args, char *out, size_t size)
{
    char location[256], units[64] = "celsius";

    if (!ex_json_string(args, "location", location, sizeof location)) {
        snprintf(out, size, "Error: missing argument 'location'");
        return 0;
    }
    ex_json_string(args, "units", units, sizeof units); /* optional */
    /* A real implementation would call a weather API. */
    snprintf(out, size, "Weather in %s: 22\xC2\xB0%c, sunny, 60%% humidity",
             location, toupper((unsigned char)(units[0] ? units[0] : 'c')));
    return 0;
}

static int calculate(const char *args, char *out, size_t size)
{
    char expression[1024], why[128], num[64];
    double value;

    if (!ex_json_string(args, "expression", expression, sizeof expression)) {
        snprintf(out, size, "Error: missing argument 'expression'");
        return 0;
    }
    /* never eval(): a parser that only knows arithmetic */
    if (calc_eval(expression, &value, why, sizeof why) != 0)
        snprintf(out, size, "Error: %s", why);
    else
        snprintf(out, size, "Result: %s", calc_format(value, num, sizeof num));
    return 0;
}

int ex_run_tool(const char *name, const char *arguments, char *out,
                size_t size)
{
    if (!arguments)
        arguments = "{}";
    if (name && strcmp(name, "get_weather") == 0)
        return get_weather(arguments, out, size);
    if (name && strcmp(name, "calculate") == 0)
        return calculate(arguments, out, size);
    snprintf(out, size, "Error: unknown tool '%s'", name ? name : "");
    return -1;
}
