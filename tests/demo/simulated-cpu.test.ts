import { SimulatedCpu } from '../../demo/fleet/simulated-cpu';

/** A CPU on a hand-driven clock, so the test decides how fast time passes. */
function cpuAt(capacityRps: number) {
  let now = 1_700_000_000_000;
  const cpu = new SimulatedCpu(capacityRps, () => now);
  return {
    cpu,
    /** Advances the clock one second at a time, recording `rps` requests in each. */
    run(seconds: number, rps: number) {
      for (let s = 0; s < seconds; s += 1) {
        for (let i = 0; i < rps; i += 1) {
          now += 1000 / Math.max(rps, 1) / 2;
          cpu.recordRequest();
          now += 1000 / Math.max(rps, 1) / 2;
        }
        if (rps === 0) now += 1000;
        cpu.utilisation();
      }
    },
  };
}

describe('simulated CPU', () => {
  it('sits at 0.02–0.05 when idle', () => {
    const { cpu, run } = cpuAt(50);
    for (let i = 0; i < 50; i += 1) {
      run(1, 0);
      expect(cpu.utilisation()).toBeGreaterThanOrEqual(0.02);
      expect(cpu.utilisation()).toBeLessThanOrEqual(0.05);
    }
  });

  it('follows the request rate relative to capacity, smoothed', () => {
    const { cpu, run } = cpuAt(50);
    run(1, 50);
    const early = cpu.utilisation();
    run(20, 50);
    const loaded = cpu.utilisation();
    expect(early).toBeLessThan(loaded);
    expect(loaded).toBeGreaterThan(0.85);
    expect(loaded).toBeLessThanOrEqual(1);

    run(30, 25);
    expect(cpu.utilisation()).toBeGreaterThan(0.35);
    expect(cpu.utilisation()).toBeLessThan(0.65);

    run(30, 0);
    expect(cpu.utilisation()).toBeLessThan(0.06);
  });

  it('never reads above 1, however far past capacity', () => {
    const { cpu, run } = cpuAt(10);
    run(15, 100);
    expect(cpu.utilisation()).toBeLessThanOrEqual(1);
    expect(cpu.load()).toBeGreaterThan(0.95);
  });
});
