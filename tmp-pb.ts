import { poseidon } from './src/crypto/poseidon.ts';
import { loadNativePoseidon } from './src/service/native-poseidon.ts';
import { AgentState } from './src/state/agent-state.ts';
const n = await loadNativePoseidon();
const xs = Array.from({length: 2000}, (_, i) => [BigInt(i)*123456789n, BigInt(i)+7n, 99n, BigInt(i)**5n]);
let t = performance.now(); for (const x of xs) poseidon(x); const ts = (performance.now()-t)/xs.length;
t = performance.now(); for (const x of xs) n!.hash(x); const nat = (performance.now()-t)/xs.length;
console.log('us per 4-input hash: ts', (ts*1000).toFixed(1), 'native', (nat*1000).toFixed(1));
// witness rate of AgentState: production shape
const s = new AgentState({ agentDepth: 10, orgDepth: 4 });
t = performance.now();
let k = 0;
for (let i = 0; i < 300; i++) s.apply({ record: { agent: BigInt(1000+i), org: 5n, epoch: 1n, kept: 3n, broken: 0n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: i % 16 });
console.log('inserts/s', (300/((performance.now()-t)/1000)).toFixed(0));
t = performance.now();
for (let i = 0; i < 300; i++) s.apply({ record: { agent: BigInt(1000+i), org: 5n, epoch: 2n, kept: 3n, broken: 0n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: i % 16 });
console.log('updates/s', (300/((performance.now()-t)/1000)).toFixed(0));
