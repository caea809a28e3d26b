// tsnetctl info: what the agent holds and runs on, as `docker info` lays it out.
import { Command } from 'commander';
import type { InfoResponse__Output } from '../../api/generated/tsnet/v1/InfoResponse.ts';
import { templateFormatter } from '../format/template.ts';
import type { CliContext } from './context.ts';
import { CLIENT_VERSION } from './version.ts';

/** Docker's info keys for what the agent reports. */
export function infoView(i: InfoResponse__Output, serverVersion: string) {
  return {
    ID: i.name,
    Name: i.name,
    ServerVersion: serverVersion,
    Containers: i.containers,
    ContainersRunning: i.containersRunning,
    ContainersPaused: i.containersPaused,
    ContainersStopped: i.containersStopped,
    Images: i.images,
    Driver: i.storageDriver,
    CgroupVersion: i.cgroupVersion,
    DefaultRuntime: i.runtime,
    ClusterStore: i.store,
    KernelVersion: i.kernelVersion,
    OSType: i.os,
    Architecture: i.arch,
    NCPU: i.cpus,
    MemTotal: i.memoryBytes,
    DockerRootDir: i.dataDir,
    RunDir: i.runDir,
    InsecureRegistries: i.insecureRegistries,
  };
}

/** Binary units, as docker info shows memory: "3.84GiB". */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(3))}${units[u]}`;
}

function infoText(v: ReturnType<typeof infoView>): string {
  const lines = [
    'Client:',
    ` Version:    ${CLIENT_VERSION}`,
    '',
    'Server:',
    ` Containers: ${v.Containers}`,
    `  Running: ${v.ContainersRunning}`,
    `  Paused: ${v.ContainersPaused}`,
    `  Stopped: ${v.ContainersStopped}`,
    ` Images: ${v.Images}`,
    ` Server Version: ${v.ServerVersion}`,
    ` Storage Driver: ${v.Driver}`,
    ` Cgroup Version: ${v.CgroupVersion}`,
    ` Default Runtime: ${v.DefaultRuntime}`,
    ` Cluster Store: ${v.ClusterStore}`,
    ` Kernel Version: ${v.KernelVersion}`,
    ` OSType: ${v.OSType}`,
    ` Architecture: ${v.Architecture}`,
    ` CPUs: ${v.NCPU}`,
    ` Total Memory: ${bytesSize(v.MemTotal)}`,
    ` Name: ${v.Name}`,
    ` Data Dir: ${v.DockerRootDir}`,
    ` Run Dir: ${v.RunDir}`,
    ' Insecure Registries:',
    ...v.InsecureRegistries.map((r) => `  ${r}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function infoCommand(ctx: CliContext, name = 'info'): Command {
  return new Command(name)
    .description('Display system-wide information')
    .option('-f, --format <string>', "Format output using a custom template: 'json', 'TEMPLATE'")
    .action(async (options: { format?: string }) => {
      const formatter = options.format
        ? templateFormatter<ReturnType<typeof infoView>>(options.format)
        : undefined;
      const agent = ctx.agent();
      const [info, version] = await Promise.all([agent.info(), agent.version()]);
      const view = infoView(info, version.version);
      ctx.stdout.write(formatter ? formatter.render([view]) : infoText(view));
    });
}
