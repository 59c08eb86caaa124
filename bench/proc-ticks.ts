import { readFileSync } from 'node:fs';

/** CPU time of processes and of the machine from Linux /proc, in ticks (USER_HZ: 1/100 s). Throws where /proc is not there. */

/** A process's own CPU (user + system) and that of its reaped children. */
export function ticksOf(pid: number | 'self'): { own: number; children: number } {
  // Fields after the command name: utime=11, stime=12, cutime=13, cstime=14 (0-based from `state`).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
}

/** The machine's busy and stolen ticks, all cores. */
export function machine(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6], steal: f[7] };
}

