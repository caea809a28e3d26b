// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface DisconnectNetworkResponse {
}

export interface DisconnectNetworkResponse__Output {
}
