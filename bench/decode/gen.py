#!/usr/bin/env python3
"""Generates a seed-shaped batch output file and its error file.

usage: gen.py OUTPUT ERROR [LINES] [CONTENT_BYTES]
Every 8th line answers with tool calls (content null); every line has
usage with details. The error file holds http errors, top-level errors
and expired lines. Deterministic (fixed seed)."""
import json, random, sys

out_path, err_path = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
size = int(sys.argv[4]) if len(sys.argv) > 4 else 1080
rnd = random.Random(42)
words = ("the weather in Paris is mild today with light wind from the west "
         "temperature humidity forecast \"quoted\" cloud rain sun batch model "
         "résumé naïve 東京 ☀️ analysis report data value").split()

def text(nbytes):
    parts, total = [], 0
    while total < nbytes:
        w = rnd.choice(words)
        if rnd.random() < 0.02:
            w += ".\n\n"
        parts.append(w)
        total += len(w) + 1
    return " ".join(parts)

with open(out_path, "w", encoding="utf-8") as f:
    for i in range(n):
        cid = "request-%06d" % i
        msg = {"role": "assistant", "content": None, "refusal": None,
               "annotations": []}
        finish = "stop"
        if i % 8 == 7:
            msg["tool_calls"] = [
                {"id": "call_%06d_%d" % (i, k), "type": "function",
                 "function": {"name": "get_weather",
                              "arguments": json.dumps({"location": "City %d" % i,
                                                       "unit": "celsius",
                                                       "note": text(200)})}}
                for k in range(2)]
            finish = "tool_calls"
        else:
            msg["content"] = text(size)
        body = {"id": "chatcmpl-%08d" % i, "object": "chat.completion",
                "created": 1711652795, "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": msg, "logprobs": None,
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": 22 + i % 50,
                          "completion_tokens": 400 + i % 100,
                          "total_tokens": 422 + i % 50 + i % 100,
                          "prompt_tokens_details": {"cached_tokens": i % 3 * 64,
                                                    "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0,
                                                        "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0,
                                                        "rejected_prediction_tokens": 0}},
                "service_tier": "default",
                "system_fingerprint": "fp_44709d6fcb"}
        line = {"id": "batch_req_%08d" % i, "custom_id": cid,
                "response": {"status_code": 200,
                             "request_id": "req_%032x" % i, "body": body},
                "error": None}
        f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        f.write("\n")

with open(err_path, "w", encoding="utf-8") as f:
    for i in range(max(1, n // 50)):
        cid = "failed-%06d" % i
        if i % 3 == 0:
            line = {"id": "batch_req_e%07d" % i, "custom_id": cid,
                    "response": {"status_code": 400, "request_id": "req_e%d" % i,
                                 "body": {"error": {"message": "Invalid 'max_tokens': too large.",
                                                    "type": "invalid_request_error",
                                                    "param": "max_tokens",
                                                    "code": "invalid_value"}}},
                    "error": None}
        elif i % 3 == 1:
            line = {"id": "batch_req_e%07d" % i, "custom_id": cid,
                    "response": None,
                    "error": {"code": "batch_expired",
                              "message": "This request could not be executed before the completion window expired."}}
        else:
            line = {"id": "batch_req_e%07d" % i, "custom_id": cid,
                    "response": None,
                    "error": {"code": "server_error", "message": "The server had an error."}}
        f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        f.write("\n")
