"""Milliseconds of daprd's (and PostgreSQL's) CPU per listing-sized read; see bench/daprd-bulk."""
import http.client
import json
import os
import random
import subprocess
import sys


def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu():
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "postgres":
                total += cpu(pid)
        except OSError:
            pass
    return total


port, daprd = int(sys.argv[1]), int(os.environ["DAPRD_PID"])
conn = http.client.HTTPConnection("127.0.0.1", port)


def call(method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"content-type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


rnd = random.Random(1)
TASKS, ROUNDS = 2000, 100


def entry(i):
    """A task as the index keeps it (about 50 bytes)."""
    return "01KB9X3D5E6F7G8H9J0KMN%04d%s%d;" % (i, rnd.choice("lmh"), 1800000000000000 + i)


def objects(i):
    """A task in the issue-3 stored form (about 150 bytes)."""
    return {"i": "01KB9X3D5E6F7G8H9J0KMN%04d" % i, "t": "seeded task %d report" % i,
            "p": "high", "g": ["work"], "u": 1800000000000000 + i, "a": 1790000000000000 + i,
            "e": 1790000000000000 + i}


def measure(name, keys, per_request):
    before = cpu(daprd), postgres_cpu()
    size = 0
    for _ in range(ROUNDS):
        for at in range(0, len(keys), per_request):
            status, data = call("POST", "/v1.0/state/statestore/bulk",
                                {"keys": keys[at:at + per_request], "parallelism": 8})
            assert status == 200, status
            size += len(data)
    after = cpu(daprd), postgres_cpu()
    print(f"| {name} | {size // ROUNDS // 1024} | {(after[0] - before[0]) * 1000 / ROUNDS:.2f} "
          f"| {(after[1] - before[1]) * 1000 / ROUNDS:.2f} |")


def store(prefix, shards, value, tasks=TASKS):
    """`tasks` tasks spread over `shards` keys, each holding `value(its task numbers)`."""
    keys = []
    for n in range(shards):
        key = f"{prefix}:{n:03d}"
        status, _ = call("POST", "/v1.0/state/statestore",
                         [{"key": key, "value": value(range(n, tasks, shards))}])
        assert status == 204, status
        keys.append(key)
    return keys


print(f"{TASKS} tasks, {ROUNDS} reads each; ms of CPU per read\n")
print("| read | KB | daprd | postgres |")
print("|---|---:|---:|---:|")
full = store("full", 128, lambda ids: {"t": [objects(i) for i in ids]})
measure("whole tasks, 128 keys, 4 requests of 32", full, 32)
measure("whole tasks, 128 keys, 1 request", full, 128)
for shards, per_request in [(128, 32), (128, 128), (32, 32), (8, 8), (1, 1)]:
    keys = store(f"index{shards}", shards, lambda ids: "".join(entry(i) for i in ids))
    measure(f"index entries, {shards} keys, {per_request} a request", keys, per_request)
before = cpu(daprd)
for _ in range(ROUNDS):
    call("GET", "/v1.0/state/statestore/index1:000")
print(f"| index entries, 1 key, plain GET | - | {(cpu(daprd) - before) * 1000 / ROUNDS:.2f} | - |")


# A user with 20,000 tasks: the index in 64 shards of about 27 KB, with
# PostgreSQL's TOAST compression on (its default) and off.
BIG = 20000


def index_shard(ids):
    """A shard of the index in its stored form (ADR 3)."""
    return {"e": [["01KB9X3D5E6F7G8H9J0KMN%04d" % (i % 10000), 3, 1800000000000000 + i,
                   ["work"], "quarterly report #%d" % i, None] for i in ids]}


def big_index(prefix):
    return store(prefix, 64, index_shard, BIG)


print(f"\n{BIG} tasks' index in 64 keys, one bulk request; ms of CPU per read\n")
print("| read | KB | daprd | postgres |")
print("|---|---:|---:|---:|")
measure("TOAST compression on (PostgreSQL's default)", big_index("big"), 64)
subprocess.run(["psql", "-h", "127.0.0.1", "-p", os.environ["PG_PORT"], "-U", "postgres", "-d",
                os.environ["TODO_PG_DB"], "-q", "-c",
                "ALTER TABLE state ALTER COLUMN value SET STORAGE EXTERNAL"], check=True)
measure("TOAST compression off", big_index("big-external"), 64)
