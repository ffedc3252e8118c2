/**
 * Finds rclnodejs only when a ROS 2 environment is sourced. rclnodejs is an optional peer
 * dependency (it cannot install without ROS 2), so it is loaded by dynamic import and
 * never named in a static import.
 */
import type { Rclnodejs } from './rclnodejs-api.js';

export class Ros2EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Ros2EnvironmentError';
  }
}

/** Unknown to the ROS 2 install: names the type, the topic and the missing package. */
export class Ros2TypeError extends Error {
  constructor(readonly typeName: string, readonly packageName: string, readonly topic: string, cause: string) {
    super(
      `message type '${typeName}' (topic '${topic}') is not available in the sourced ROS 2 install: ` +
        `package '${packageName}' not found or not built for rclnodejs (${cause}). ` +
        (packageName === 'kestrel_msgs'
          ? `Build it with 'colcon build --paths msgs/kestrel_msgs', source install/setup.bash, then run 'npx generate-ros-messages'.`
          : `Install it (e.g. 'apt install ros-$ROS_DISTRO-${packageName.replace(/_/g, '-')}'), then run 'npx generate-ros-messages'.`),
    );
    this.name = 'Ros2TypeError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Whether a ROS 2 environment looks fully sourced; throws on a half-sourced one. */
export function ros2Sourced(env: Env): boolean {
  const distro = env.ROS_DISTRO;
  const prefix = env.AMENT_PREFIX_PATH;
  if (!distro && !prefix) return false;
  if (!distro) {
    throw new Ros2EnvironmentError(
      `ROS 2 environment is half-sourced: AMENT_PREFIX_PATH is set (${prefix}) but ROS_DISTRO is not; source /opt/ros/<distro>/setup.bash`,
    );
  }
  if (!prefix) {
    throw new Ros2EnvironmentError(
      `ROS 2 environment is half-sourced: ROS_DISTRO=${distro} but AMENT_PREFIX_PATH is empty; source /opt/ros/${distro}/setup.bash (not only export ROS_DISTRO)`,
    );
  }
  return true;
}

export type Importer = (specifier: string) => Promise<unknown>;

// The specifier lives in a variable so neither tsc nor bundlers try to resolve it.
const RCLNODEJS = 'rclnodejs';
const defaultImporter: Importer = (s) => import(s);

function asModule(m: unknown): Rclnodejs {
  const mod = (m as { default?: unknown }).default ?? m;
  const r = mod as Partial<Rclnodejs>;
  if (typeof r.init !== 'function' || typeof r.Node !== 'function' || typeof r.QoS !== 'function') {
    throw new Ros2EnvironmentError(`the module 'rclnodejs' that was found does not look like rclnodejs (no init/Node/QoS)`);
  }
  return mod as Rclnodejs;
}

/**
 * Loads rclnodejs for a sourced ROS 2 environment. Errors, all at startup:
 * half-sourced environment, not sourced at all, or rclnodejs not installed / not built.
 */
export async function loadRclnodejs(env: Env = process.env, importer: Importer = defaultImporter): Promise<Rclnodejs> {
  if (!ros2Sourced(env)) {
    throw new Ros2EnvironmentError(
      `the ROS 2 transport needs a sourced ROS 2 environment (ROS_DISTRO and AMENT_PREFIX_PATH are unset): source /opt/ros/<distro>/setup.bash, or use --transport inproc`,
    );
  }
  let m: unknown;
  try {
    m = await importer(RCLNODEJS);
  } catch (e) {
    throw new Ros2EnvironmentError(
      `ROS 2 (${env.ROS_DISTRO}) is sourced but rclnodejs cannot be loaded: ${(e as Error).message}. ` +
        `Install it in this environment with 'npm install rclnodejs@^2' after sourcing ROS 2 (it is an optional peer dependency)`,
    );
  }
  return asModule(m);
}
