import { describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { parseStartArgs, startCommand } from './start.js';

describe('kestrel start: arguments', () => {
  it('defaults, options, ports and --ros-args', () => {
    expect(parseStartArgs([])).toMatchObject({ scenario: 'passport-queue', durationS: 60, control: false, record: true, verbose: false, fcLink: undefined });
    const a = parseStartArgs(['stranded-bag', '--duration', '5', '--control', '--fc', 'udp', '--fc-port', '14600', '--gcs-port', '14601', '--no-record', '--ros-args', '--log-level', 'planner:=debug', '-p', 'planner:rate_hz:=0.5']);
    expect(a).toMatchObject({ scenario: 'stranded-bag', durationS: 5, control: true, fcLink: 'udp', fcPort: 14600, gcsPort: 14601, record: false });
    expect(a.ros.logLevels).toEqual([{ logger: 'planner', level: 'debug' }]);
    expect(a.ros.params).toHaveLength(1);
  });

  it('usage errors are one clear line', () => {
    const err = (argv: string[]): string => {
      try {
        parseStartArgs(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('expected a UsageError');
    };
    expect(err(['--duration'])).toBe('--duration needs a value');
    expect(err(['--duration', '0'])).toBe('--duration must be a positive number of seconds');
    expect(err(['--fc', 'can'])).toBe("--fc must be serial, udp or memory, not 'can'");
    expect(err(['--fc-port', '70000'])).toBe("--fc-port must be a port number 1-65535, not '70000'");
    expect(err(['--bogus'])).toBe("unknown option '--bogus'");
    expect(err(['a', 'b'])).toBe("start takes one scenario, got also 'b'");
    expect(err(['--ros-args', '-r', 'a:=b'])).toMatch(/remaps of the mission go in launch/);
  });

  it('ports with another link, and an unknown scenario, fail before anything starts', async () => {
    await expect(startCommand.run(['--fc', 'memory', '--fc-port', '14600'])).rejects.toThrow('--fc-port and --gcs-port are UDP ports: they need --fc udp, not --fc memory');
    await expect(startCommand.run(['nosuch'])).rejects.toThrow(/^nosuch: unknown scenario \(built in: passport-queue, stranded-bag, perimeter-patrol; or give a path to a \.yaml file\)$/);
  });
});
