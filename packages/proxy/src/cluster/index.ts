/**
 * Workers on one machine: the public names of the cluster folder.
 * @internal
 * @module
 */
export { createCluster, type ClusterHandle } from './create-cluster';
export { Cluster } from './primary';
export type { ClusterEvents, WorkerInfo, WorkerState } from './cluster-types';
export { ClusterWorker, type ClusterWorkerEvents } from './worker';
export type { ClusterOptions } from './cluster-options';
export type { ClusterBackendSnapshot, ClusterConnectionRecord } from './aggregate';
