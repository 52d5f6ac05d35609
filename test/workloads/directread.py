# Direct-I/O reader: 64 KiB O_DIRECT reads at random aligned offsets of argv[1] (a file with real data; the page
# cache is bypassed, so every read goes to the device).
import mmap, os, random, sys

fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
size = os.fstat(fd).st_size
buf = mmap.mmap(-1, 65536)  # page-aligned, as O_DIRECT wants
blocks = size // 65536
print("ready", flush=True)
while True:
    os.preadv(fd, [buf], random.randrange(blocks) * 65536)
