import { InitialSchema1764086400000 } from './1764086400000-initial-schema.js';
import { QueryIndexesEvaluations1764174600000 } from './1764174600000-query-indexes-evaluations.js';
import { Exports1764180000000 } from './1764180000000-exports.js';
import { RecordsCanonicalText1764190000000 } from './1764190000000-records-canonical-text.js';
import { MerkleTiles1764200000000 } from './1764200000000-merkle-tiles.js';
import { TrafficMinutes1764210000000 } from './1764210000000-traffic-minutes.js';
import { RecordsJsonParseOnce1764220000000 } from './1764220000000-records-json-parse-once.js';
import { ShardLocalAppend1764230000000 } from './1764230000000-shard-local-append.js';
import { GatewayDefaultTenant1764250000000 } from './1764250000000-gateway-default-tenant.js';
import { Policies1764300000000 } from './1764300000000-policies.js';
import { WitnessCosignatures1764310000000 } from './1764310000000-witness-cosignatures.js';
import { FindingHours1764320000000 } from './1764320000000-finding-hours.js';
import { CostHours1764330000000 } from './1764330000000-cost-hours.js';
import { RecordsTenantFindingTime1764340000000 } from './1764340000000-records-tenant-finding-time.js';
import { RecordsGatewayTime1764350000000 } from './1764350000000-records-gateway-time.js';

/** Every migration, in order. Listed explicitly so that ts-jest and compiled builds load the same classes. */
export const MIGRATIONS = [
  InitialSchema1764086400000,
  QueryIndexesEvaluations1764174600000,
  Exports1764180000000,
  RecordsCanonicalText1764190000000,
  MerkleTiles1764200000000,
  TrafficMinutes1764210000000,
  RecordsJsonParseOnce1764220000000,
  ShardLocalAppend1764230000000,
  GatewayDefaultTenant1764250000000,
  Policies1764300000000,
  WitnessCosignatures1764310000000,
  FindingHours1764320000000,
  CostHours1764330000000,
  RecordsTenantFindingTime1764340000000,
  RecordsGatewayTime1764350000000,
];
