"""Writes a valid batch input of about TARGET bytes in at most 50,000
lines: seed-shaped chat requests with long prompts (with some escapes and
non-ASCII text), a few with tools. Usage: gen_big.py OUT TARGET_BYTES"""
import json
import sys

path, target = sys.argv[1], int(sys.argv[2])
n = 49000
per = target // n
words = ("The quick brown fox jumps over the lazy dog; \"quoted\" text, "
         "tabs\tand newlines\n, na\u00efve caf\u00e9 \u6771\u4eac \U0001F600 ")
tool = {"type": "function", "function": {"name": "get_weather", "description": "Get current weather information for a location.",
        "parameters": {"additionalProperties": False, "properties": {"location": {"type": "string"}}, "required": ["location"], "type": "object"}}}
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        body = {"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": ""}], "max_tokens": 200, "temperature": 0.8}
        if i % 5 == 0:
            body["tools"] = [tool]
        line = {"custom_id": f"request-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}
        base = len(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode()) + 1
        need = max(0, per - base)
        # JSON bytes per character of `words`, escapes and UTF-8 included
        ratio = len(json.dumps(words, ensure_ascii=False).encode()) / len(words)
        text = words * (int(need / ratio) // len(words) + 2)
        body["messages"][1]["content"] = text[: int(need / ratio)]
        f.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n")
