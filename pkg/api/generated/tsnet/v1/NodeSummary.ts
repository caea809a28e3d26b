// Original file: pkg/api/proto/tsnet/v1/cluster.proto


export interface NodeSummary {
  /**
   * The node's name as its containers' entries give it; empty when it publishes none.
   */
  'name'?: (string);
  'subnet'?: (string);
  'publicIp'?: (string);
  'vtepMac'?: (string);
  'backendType'?: (string);
  'containers'?: (number);
  /**
   * This agent's own node.
   */
  'local'?: (boolean);
}

export interface NodeSummary__Output {
  /**
   * The node's name as its containers' entries give it; empty when it publishes none.
   */
  'name': (string);
  'subnet': (string);
  'publicIp': (string);
  'vtepMac': (string);
  'backendType': (string);
  'containers': (number);
  /**
   * This agent's own node.
   */
  'local': (boolean);
}
