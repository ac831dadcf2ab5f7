"""Python peer of `bench_requests write`: builds the same requests as
dicts (as create_chat_request does) and writes them with json.dumps."""
import json
import sys

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get current weather information for a location.",
        "parameters": {"additionalProperties": False, "properties": {
            "location": {"type": "string"},
            "units": {"default": "celsius", "type": "string"}},
            "required": ["location"], "type": "object"}}},
    {"type": "function", "function": {
        "name": "calculate",
        "description": "Perform mathematical calculations.",
        "parameters": {"additionalProperties": False, "properties": {
            "expression": {"type": "string"}},
            "required": ["expression"], "type": "object"}}},
]
SCHEMA = {"type": "object", "properties": {
    "location": {"type": "string"}, "temperature": {"type": "number"},
    "condition": {"type": "string"}, "humidity": {"type": "integer"}},
    "required": ["location", "temperature", "condition", "humidity"],
    "additionalProperties": False}


def build(i):
    k = i % 3
    if k == 0:
        cid = f"math-{i}"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"What is {i}+{i}? Answer in one sentence, please."}],
                "max_tokens": 50, "temperature": 0.8}
    elif k == 1:
        cid = f"weather-{i}"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"What's the weather like in S\u00e3o Paulo #{i}?"}],
                "max_tokens": 150, "tools": TOOLS}
    else:
        cid = f"structured-{i}"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Get weather information for Paris ({i}) and format it properly"}],
                "max_tokens": 200,
                "response_format": {"type": "json_schema", "json_schema": {"name": "WeatherResult", "schema": SCHEMA, "strict": True}}}
    return {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body}


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    lines = 0
    size = 0
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            s = json.dumps(build(i), separators=(",", ":"), ensure_ascii=False) + "\n"
            f.write(s)
            lines += 1
            size += len(s.encode("utf-8"))
    print(f"lines={lines} bytes={size}")


main()
