import { existsSync, readFileSync } from 'node:fs';
import { machine, ticksOf } from '../proc-ticks';

/**
 * Where the machine's CPU went during a pass (Linux /proc; elsewhere nothing is reported). On a
 * shared 2-core VM the req/s of a target moves with the neighbours' load, so each pass also records
 *  - the CPU time the target's own processes spent per request (µs/request: the target process,
 *    and its upstream for the proxies) — the cost of a request, much less sensitive to neighbours;
 *  - how long the target process was runnable but waiting for a core (run-queue wait), as a share
 *    of the pass — when it waits, the target is CPU-starved, not slow;
 *  - the cores used by everything else on the machine (other agents' work), and the hypervisor's
 *    steal time (other VMs on the host).
 */
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const available = existsSync('/proc/stat') && existsSync('/proc/self/stat');

interface Snapshot {
  at: number;
  machine: { busy: number; steal: number };
  own: number;
  children: number;
  procs: number[];
  sched?: { run: number; wait: number };
}

export interface PassCpu {
  /** CPU µs per 2xx answer of each watched process (target first, then its upstream). */
  usPerRequest: number[];
  /** Share of the pass the target process was runnable but waiting for a core. */
  targetRunQueueWait: number | null;
  /** Share of the pass the target process was on a core. */
  targetOnCpu: number | null;
  /** Cores used by processes other than the targets, the generator and this bench. */
  othersCores: number;
  /** Cores the hypervisor gave to other guests while this VM wanted them. */
  stealCores: number;
  /** All busy cores of the machine. */
  machineBusyCores: number;
}

function schedOf(pid: number): { run: number; wait: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { run, wait };
  } catch {
    return undefined;
  }
}

function snapshot(pids: number[]): Snapshot | undefined {
  if (!available) return undefined;
  try {
    const self = ticksOf('self');
    return { at: performance.now(), machine: machine(), own: self.own, children: self.children, procs: pids.map((p) => ticksOf(p).own), sched: schedOf(pids[0]) };
  } catch {
    return undefined;
  }
}

/**
 * Starts accounting for a pass over `pids` (target process first); the returned function, called
 * after the generator has exited (a generator child's CPU is counted once it is reaped), gives the
 * figures for `requests` answers.
 */
export function accountPass(pids: number[]): (requests: number) => PassCpu | undefined {
  const start = snapshot(pids);
  return (requests) => {
    const end = snapshot(pids);
    if (!start || !end || requests <= 0) return undefined;
    const seconds = (end.at - start.at) / 1000;
    const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    const procs = end.procs.map((t, i) => t - start.procs[i]);
    // this process (autocannon runs in it) and its reaped children (bombardier)
    const bench = end.own - start.own + end.children - start.children;
    const busy = end.machine.busy - start.machine.busy;
    const share = (ns: number) => Math.round((ns / 1e9 / seconds) * 100) / 100;
    return {
      usPerRequest: procs.map((t) => Math.round(((t / TICKS_PER_SECOND) * 1e6) / requests)),
      targetRunQueueWait: start.sched && end.sched ? share(end.sched.wait - start.sched.wait) : null,
      targetOnCpu: start.sched && end.sched ? share(end.sched.run - start.sched.run) : null,
      othersCores: Math.max(0, cores(busy - procs.reduce((a, b) => a + b, 0) - bench)),
      stealCores: cores(end.machine.steal - start.machine.steal),
      machineBusyCores: cores(busy),
    };
  };
}
