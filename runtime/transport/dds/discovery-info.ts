/**
 * `ros_discovery_info`: how ROS 2 (rmw_dds_common, Humble) learns which nodes own which DDS endpoints. Every rmw
 * participant publishes one rmw_dds_common/msg/ParticipantEntitiesInfo on this topic (no rt/ prefix; reliable,
 * transient local, keep last 1), listing its nodes and their readers' and writers' GIDs; `ros2 node list` and
 * `ros2 node info` read them. A GID is the endpoint's 16-byte DDS GUID, zero-padded to Humble's 24 bytes
 * (RMW_GID_STORAGE_SIZE), as rmw_cyclonedds_cpp and rmw_fastrtps_cpp fill it.
 */
import { MsgRegistry } from '../../../msgs/index.js';

export const DISCOVERY_TOPIC = 'ros_discovery_info';
export const DISCOVERY_TYPE = 'rmw_dds_common/msg/ParticipantEntitiesInfo';
export const GID_SIZE = 24;

/** rmw_dds_common's three messages as Humble defines them (the string bounds, <=256, do not change the CDR). */
export const discoveryRegistry = new MsgRegistry({
  'rmw_dds_common/msg/Gid': `char[${GID_SIZE}] data\n`,
  'rmw_dds_common/msg/NodeEntitiesInfo': 'string node_namespace\nstring node_name\nrmw_dds_common/Gid[] reader_gid_seq\nrmw_dds_common/Gid[] writer_gid_seq\n',
  'rmw_dds_common/msg/ParticipantEntitiesInfo': 'rmw_dds_common/Gid gid\nrmw_dds_common/NodeEntitiesInfo[] node_entities_info_seq\n',
});

export interface Gid {
  data: Uint8Array;
}

export function gid(guid: Uint8Array): Gid {
  if (guid.byteLength !== 16) throw new Error(`a DDS GUID has 16 bytes, got ${guid.byteLength}`);
  const data = new Uint8Array(GID_SIZE);
  data.set(guid);
  return { data };
}

export interface NodeEntities {
  namespace: string;
  name: string;
  readers: Uint8Array[];
  writers: Uint8Array[];
}

/** The ParticipantEntitiesInfo message for one participant (pure). */
export function participantEntitiesInfo(participant: Uint8Array, nodes: readonly NodeEntities[]): unknown {
  return {
    gid: gid(participant),
    node_entities_info_seq: nodes.map((n) => ({
      node_namespace: n.namespace === '' ? '/' : n.namespace,
      node_name: n.name,
      reader_gid_seq: n.readers.map(gid),
      writer_gid_seq: n.writers.map(gid),
    })),
  };
}
