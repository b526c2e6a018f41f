#!/usr/bin/env python3
# Files: N clients upload one SIZE MiB file each at once through nginx (curl), then download them all at once, while
# the replicas' resident memory (VmRSS) is sampled every 50 ms. Against a running cluster (scripts/cluster.sh up with
# Chat__Files__DailyBytesPerUser raised, since one user uploads all):
#   python3 benchmarks/files-upload.py TCP_PORT HTTP_PORT N SIZE_MIB .cluster/chat1.pid .cluster/chat2.pid
import socket, json, sys, time, os, subprocess, threading, uuid
tcp_port, http_port, n, size_mb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pids = [int(open(p).read().strip()) for p in sys.argv[5:]]
def rpc(sock, f, frame):
    sock.sendall((json.dumps(frame)+"\n").encode())
    return json.loads(f.readline())
s = socket.create_connection(("127.0.0.1", tcp_port)); f = s.makefile()
name = "bench" + uuid.uuid4().hex[:8]
reg = rpc(s, f, {"msgid":4,"name":name,"password":"pw"})
ack = rpc(s, f, {"msgid":1,"id":reg["id"],"password":"pw","v":2})
token = ack["token"]
path = "/tmp/i22-bench-%d.bin" % size_mb
if not os.path.exists(path):
    with open(path,"wb") as out: out.write(os.urandom(size_mb*1024*1024))
peak = {p: 0 for p in pids}; base = {}
def rss(p):
    for line in open("/proc/%d/status" % p):
        if line.startswith("VmRSS:"): return int(line.split()[1])//1024
for p in pids: base[p] = rss(p)
stop = False
def sample():
    while not stop:
        for p in pids: peak[p] = max(peak[p], rss(p))
        time.sleep(0.05)
t = threading.Thread(target=sample); t.start()
start = time.time()
procs = [subprocess.Popen(["curl","-s","-o","/tmp/i22-up-%d.json" % i,"-w","%{http_code}","-H","Authorization: Bearer "+token,"-H","Content-Type: application/octet-stream","--data-binary","@"+path,"http://127.0.0.1:%d/files?name=f%d.bin" % (http_port,i)], stdout=subprocess.PIPE) for i in range(n)]
codes = [p.communicate()[0].decode() for p in procs]
up = time.time()-start
ids = [json.load(open("/tmp/i22-up-%d.json" % i))["id"] for i in range(n) if codes[i]=="201"]
start = time.time()
procs = [subprocess.Popen(["curl","-s","-o","/dev/null","-w","%{http_code}","-H","Authorization: Bearer "+token,"http://127.0.0.1:%d/files/%s" % (http_port,i)], stdout=subprocess.PIPE) for i in ids]
dcodes = [p.communicate()[0].decode() for p in procs]
down = time.time()-start
stop = True; t.join()
total = n*size_mb
print("uploads %s: %d x %d MiB in %.1f s = %.1f MB/s (%s)" % ("", n, size_mb, up, total*1.048576/up, ",".join(sorted(set(codes)))))
print("downloads: %d x %d MiB in %.1f s = %.1f MB/s (%s)" % (len(ids), size_mb, down, len(ids)*size_mb*1.048576/down, ",".join(sorted(set(dcodes)))))
for p in pids: print("replica pid %d RSS: before %d MiB, peak %d MiB" % (p, base[p], peak[p]))
