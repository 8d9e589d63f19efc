/**
 * On-chain verification (`npm run bench -- --only onchain`): the gas of the gate's verify
 * (src/onchain/gate.ts: the statement's checks, the context hash recomputed with Poseidon on
 * chain, the Groth16 proof) against the bare Groth16 verifier of the same key in the same run
 * (the baseline), on one real threshold presentation of the test configuration under the
 * shared local key set (test/helpers/presentations.ts), executed in @ethereumjs/vm (Prague
 * rules, EIP-1108 precompile prices); then what else a deployment pays: the context hash alone,
 * publishing a checkpoint, deploying, code sizes; and solc's wall time for the generated
 * sources. Gas is deterministic for a given transaction: one run suffices (a transaction's
 * intrinsic gas varies by a few dozen with the zero bytes of each new proof). Groth16
 * verification costs the same for every circuit with 7 public signals, so the test
 * configuration's figures are the production circuit's.
 */
import { performance } from 'node:perf_hooks';
import { encodeCall } from '../src/onchain/abi.ts';
import { GATE_FUNCTIONS, decodeGateError, gateConstructorArgs, gateVerifyCalldata, publishCheckpointCalldata, solidityGate, verifyProofCalldata } from '../src/onchain/gate.ts';
import { PAIRING_GAS, solidityVerifier } from '../src/onchain/solidity.ts';
import { ensureTestLocalKeySet } from '../test/helpers/keys.ts';
import { CONTEXT, T0, aggregatorDid, expectationsOf, provePresentations } from '../test/helpers/presentations.ts';

export async function benchOnchain(line: (s: string) => void): Promise<void> {
  let t = performance.now();
  const { TestChain, compileSolidity, solcVersion } = await import('../test/helpers/evm.ts');
  const loadMs = performance.now() - t;
  await ensureTestLocalKeySet('test');
  const { local, localSet, provenScore } = await provePresentations();
  const vkey = localSet.verificationKeys.threshold;

  t = performance.now();
  const gateSource = solidityGate(vkey, localSet.descriptor);
  const generateMs = performance.now() - t;
  const gate1 = compileSolidity(gateSource, 'Gate.sol');
  const gate2 = compileSolidity(gateSource, 'Gate.sol');
  const bare1 = compileSolidity(solidityVerifier(vkey), 'Verifier.sol');

  const chain = await TestChain.create();
  const [deployer, publisher, caller] = [await chain.account(0), await chain.account(1), await chain.account(2)];
  const timestamp = BigInt(T0 / 1000);
  const gateDeploy = await chain.deploy(deployer, gate1.contracts.ZktrustGate!.bytecode, gateConstructorArgs(publisher.hex));
  const bareDeploy = await chain.deploy(deployer, bare1.contracts.ZktrustThresholdVerifier!.bytecode);
  const gate = gateDeploy.address!;
  const published = await chain.send(publisher, gate, publishCheckpointCalldata(local.checkpoint, aggregatorDid), { timestamp });
  const verified = await chain.send(caller, gate, gateVerifyCalldata(local, expectationsOf(provenScore, { minRecords: 3, minOrgs: 2 })), { timestamp });
  const bare = await chain.send(caller, bareDeploy.address!, verifyProofCalldata(local.proof, local.publicSignals), { timestamp });
  const context = await chain.send(caller, gate, encodeCall('contextHash', GATE_FUNCTIONS.contextHash, [CONTEXT.nonce, CONTEXT.audience, CONTEXT.expiry]), { timestamp });
  for (const [name, r] of [['publish', published], ['verify', verified], ['verifyProof', bare], ['contextHash', context]] as const) {
    if (r.reverted || (name === 'verifyProof' && r.returnData[31] !== 1)) throw new Error(`bench: ${name} failed: ${JSON.stringify(decodeGateError(r.returnData))}`);
  }

  const precompiles = PAIRING_GAS + 7 * (6_000 + 150);
  line(`\n## On-chain verification (test configuration, local keys; @ethereumjs/vm 10.1.3, Prague; solc ${solcVersion()}, optimizer 200 runs), gas`);
  line('call | transaction gas | execution gas | ratio to the bare verifier (transaction)');
  line(`gate verify (statement checks, context hash, Groth16) | ${verified.gas} | ${verified.executionGas} | ${(Number(verified.gas) / Number(bare.gas)).toFixed(2)}`);
  line(`bare Groth16 verifyProof (baseline) | ${bare.gas} | ${bare.executionGas} | 1.00`);
  line(`contextHash alone (2 sha256, Poseidon(4) on chain) | ${context.gas} | ${context.executionGas} |`);
  line(`publishCheckpoint (first root) | ${published.gas} | ${published.executionGas} |`);
  line(`(the precompiles alone, EIP-1108: ecPairing of 4 pairs ${PAIRING_GAS} + 7 ecMul and 7 ecAdd = ${precompiles})`);
  line('deployment | gas | runtime code (bytes, EIP-170 limit 24,576)');
  line(`gate (verifier, Poseidon, checkpoints) | ${gateDeploy.gas} | ${gate1.contracts.ZktrustGate!.deployedBytecode.length}`);
  line(`bare verifier | ${bareDeploy.gas} | ${bare1.contracts.ZktrustThresholdVerifier!.deployedBytecode.length}`);
  line('solc wall time | ms');
  line(`loading solc (soljson) and @ethereumjs | ${loadMs.toFixed(0)}`);
  line(`generating the gate source (TypeScript) | ${generateMs.toFixed(0)}`);
  line(`compiling the gate (first compile in the process) | ${gate1.ms.toFixed(0)}`);
  line(`compiling the gate again | ${gate2.ms.toFixed(0)}`);
  line(`compiling the bare verifier | ${bare1.ms.toFixed(0)}`);
}
