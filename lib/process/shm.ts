/**
 * Memory shared between this process and a supervised child, for frames: an anonymous memfd
 * (`memfd_create`), mapped MAP_SHARED on both sides through libc via koffi (Node cannot map
 * memory itself). The child opens the parent's fd as `/proc/<pid>/fd/<fd>`, so a region can be
 * made or grown while the child runs and mapped again after a restart; nothing is left in
 * /dev/shm when either side dies. Only the parent writes; the child maps it read-only.
 *
 * Why: a 230 kB frame over the IPC pipe (64 kB pipe buffer) takes several reader wake-ups, each a
 * scheduling wait on a loaded machine; through the region a frame costs one memcpy here and a
 * request of a few bytes.
 */
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { lazyNative, requireKoffi } from '../../runtime/native.js';

/** What the other process needs to map a region. */
export interface SharedRegionRef {
  pid: number;
  fd: number;
  bytes: number;
}

interface LibC {
  memfd(name: string, flags: number): number;
  mmap(len: number, fd: number, prot: number): unknown;
  munmap(p: unknown, len: number): number;
  view(p: unknown, len: number): ArrayBuffer;
  address(p: unknown): bigint;
}

const PROT_READ = 1;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;
const MFD_CLOEXEC = 1;

const native = lazyNative((): LibC => {
  if (process.platform !== 'linux') throw new Error(`memfd_create is Linux only (this is ${process.platform})`);
  const koffi = requireKoffi();
  const so = koffi.load('libc.so.6');
  const memfd = so.func('int memfd_create(const char *name, unsigned int flags)');
  const mmap = so.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
  const munmap = so.func('int munmap(void *addr, size_t len)');
  return {
    memfd: (name, flags) => memfd(name, flags) as number,
    mmap: (len, fd, prot) => mmap(null, len, prot, MAP_SHARED, fd, 0) as unknown,
    munmap: (p, len) => munmap(p, len) as number,
    view: (p, len) => koffi.view(p, len),
    address: (p) => BigInt(koffi.address(p)),
  };
});

/** Why shared regions cannot be made here, or undefined when they can. */
export function sharedMemoryUnavailable(): string | undefined {
  return native.get() ? undefined : `shared memory unavailable: ${native.error()}`;
}

/** MAP_FAILED is (void *) -1. */
function mapped(c: LibC, len: number, fd: number, prot: number, what: string): { ptr: unknown; buffer: ArrayBuffer } {
  const ptr = c.mmap(len, fd, prot);
  if (ptr === null || c.address(ptr) === 0xffffffffffffffffn) throw new Error(`${what}: mmap of ${len} bytes failed`);
  return { ptr, buffer: c.view(ptr, len) };
}

export class SharedRegion {
  private closed = false;

  private constructor(
    private readonly c: LibC,
    private readonly ptr: unknown,
    /** The whole mapping; valid until close(). */
    readonly buffer: ArrayBuffer,
    private readonly fd: number,
    private readonly ownRef: SharedRegionRef,
  ) {}

  /** A new zero-filled region of `bytes` (parent side). */
  static create(bytes: number, name = 'kestrel-frames'): SharedRegion {
    const c = native.get();
    if (!c) throw new Error(sharedMemoryUnavailable());
    if (!(bytes > 0)) throw new RangeError(`shared region of ${bytes} bytes`);
    const fd = c.memfd(name, MFD_CLOEXEC);
    if (fd < 0) throw new Error(`memfd_create failed (${fd})`);
    try {
      ftruncateSync(fd, bytes);
      const m = mapped(c, bytes, fd, PROT_READ_WRITE, 'shared region');
      return new SharedRegion(c, m.ptr, m.buffer, fd, { pid: process.pid, fd, bytes });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Maps the region another process made (child side), read-only: a faulty child cannot write the parent's frames. */
  static open(ref: SharedRegionRef): SharedRegion {
    const c = native.get();
    if (!c) throw new Error(sharedMemoryUnavailable());
    const fd = openSync(`/proc/${ref.pid}/fd/${ref.fd}`, 'r');
    try {
      const m = mapped(c, ref.bytes, fd, PROT_READ, `shared region of process ${ref.pid}`);
      return new SharedRegion(c, m.ptr, m.buffer, fd, ref);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get ref(): SharedRegionRef {
    return this.ownRef;
  }

  get size(): number {
    return this.ownRef.bytes;
  }

  /** Unmaps: every view of `buffer` is invalid afterwards (touching one would fault). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.munmap(this.ptr, this.ownRef.bytes);
    closeSync(this.fd);
  }
}
