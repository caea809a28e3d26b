// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface ConnectNetworkResponse {
}

export interface ConnectNetworkResponse__Output {
}
