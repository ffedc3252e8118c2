import { describe, expect, it } from 'vitest';
import { common } from 'node-mavlink';
import { SimClock } from '../../runtime/clock.js';
import { CommandClient } from './command-client.js';

type Long = InstanceType<typeof common.CommandLong>;

function ack(command: number, result: number): InstanceType<typeof common.CommandAck> {
  const a = new common.CommandAck();
  a.command = command;
  a.result = result;
  a.progress = 0;
  a.resultParam2 = 0;
  a.targetSystem = 1;
  a.targetComponent = 191;
  return a;
}

function rig(retries = 2) {
  const clock = new SimClock(1000);
  const sent: Long[] = [];
  const client = new CommandClient({ clock, send: (m) => (sent.push(m as Long), true), targetSystem: 1, targetComponent: 1, timeoutMs: 100, retries });
  return { clock, sent, client };
}

const ARM = common.MavCmd.COMPONENT_ARM_DISARM;

describe('CommandClient', () => {
  it('resolves on COMMAND_ACK and fills the COMMAND_LONG', async () => {
    const { sent, client } = rig();
    const p = client.run({ command: ARM, params: [1], label: 'ARM' });
    expect(sent).toHaveLength(1);
    expect(sent[0]._param1).toBe(1);
    expect(sent[0].confirmation).toBe(0);
    expect(client.onAck(ack(ARM, common.MavResult.ACCEPTED))).toBe(true);
    await expect(p).resolves.toMatchObject({ ok: true, result: 'accepted', attempts: 1 });
  });

  it('resends with increasing confirmation, bounded, then times out', async () => {
    const { clock, sent, client } = rig(2);
    const p = client.run({ command: ARM, params: [1], label: 'ARM' });
    clock.advanceBy(100);
    clock.advanceBy(100);
    clock.advanceBy(100);
    clock.advanceBy(500);
    await expect(p).resolves.toMatchObject({ ok: false, result: 'timeout', attempts: 3 });
    expect(sent.map((m) => m.confirmation)).toEqual([0, 1, 2]);
  });

  it('never resends a command whose validity has passed', async () => {
    const { clock, sent, client } = rig(5);
    const p = client.run({ command: ARM, params: [1], label: 'ARM', validUntilMs: clock.now() + 150 });
    clock.advanceBy(100); // first timeout: still valid → resend
    clock.advanceBy(100); // second timeout: expired → give up
    await expect(p).resolves.toMatchObject({ ok: false, result: 'expired', attempts: 2 });
    clock.advanceBy(1000);
    expect(sent).toHaveLength(2);
  });

  it('keeps resending while a repeated command extends the validity', async () => {
    const { clock, sent, client } = rig(5);
    let until = clock.now() + 150;
    const p = client.run({ command: ARM, params: [1], label: 'ARM', validUntilMs: () => until });
    clock.advanceBy(100);
    until += 200; // the arbiter repeated the command
    clock.advanceBy(100); // t+200 ≤ t+350: resend
    clock.advanceBy(100); // t+300: resend
    expect(sent).toHaveLength(4);
    clock.advanceBy(100); // t+400 > t+350: expired, not resent
    await expect(p).resolves.toMatchObject({ ok: false, result: 'expired', attempts: 4 });
    expect(sent).toHaveLength(4);
  });

  it('waits again on IN_PROGRESS, reports denial, and supersedes a command with the same id', async () => {
    const { clock, sent, client } = rig(0);
    const p = client.run({ command: ARM, params: [1], label: 'ARM' });
    clock.advanceBy(90);
    client.onAck(ack(ARM, common.MavResult.IN_PROGRESS));
    clock.advanceBy(90);
    client.onAck(ack(ARM, common.MavResult.DENIED));
    await expect(p).resolves.toMatchObject({ ok: false, result: 'denied', attempts: 1 });
    const a = client.run({ command: ARM, params: [1], label: 'ARM' });
    const b = client.run({ command: ARM, params: [0], label: 'DISARM' });
    await expect(a).resolves.toMatchObject({ result: 'superseded' });
    client.onAck(ack(ARM, common.MavResult.ACCEPTED));
    await expect(b).resolves.toMatchObject({ ok: true });
    expect(client.onAck(ack(ARM, common.MavResult.ACCEPTED))).toBe(false);
    expect(client.unmatchedAcks).toBe(1);
    expect(sent).toHaveLength(3);
  });

  it('fails at once when the link is down', async () => {
    const clock = new SimClock(0);
    const client = new CommandClient({ clock, send: () => false, targetSystem: 1, targetComponent: 1, timeoutMs: 100, retries: 3 });
    await expect(client.run({ command: ARM, params: [1], label: 'ARM' })).resolves.toMatchObject({ ok: false, result: 'link_down' });
  });
});
