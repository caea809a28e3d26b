// Original file: pkg/api/proto/tsnet/v1/cluster.proto


export interface ListNodesRequest {
}

export interface ListNodesRequest__Output {
}
