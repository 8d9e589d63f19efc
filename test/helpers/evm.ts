/**
 * A real EVM for the on-chain tests and the gas bench: solc 0.8.37 (soljson bundled with the
 * `solc` package, no download) compiles the generated contracts, @ethereumjs/vm runs signed
 * transactions on a fresh in-memory chain (Prague rules: the BN254 precompiles at their
 * EIP-1108 prices, the EIP-7623 calldata floor). Each call runs in its own block whose
 * timestamp the test chooses, so that expiry and checkpoint age are tested against
 * block.timestamp. Gas figures are what the transaction pays: intrinsic (21,000 plus calldata)
 * plus execution.
 */
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { createLegacyTx } from '@ethereumjs/tx';
import { Address, createAccount, createAddressFromPrivateKey, createZeroAddress } from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import solc from 'solc';
import { bytesToHex, hexToBytes } from '../../src/onchain/abi.ts';

export const EVM_VERSION = 'prague';

export interface CompiledContract {
  abi: unknown[];
  /** Creation bytecode. */
  bytecode: Uint8Array;
  /** Runtime bytecode (what is deployed). */
  deployedBytecode: Uint8Array;
  /** solc's selectors by signature, e.g. 'verifyProof(uint256[2],...)' -> 'a1b2c3d4'. */
  methodIdentifiers: Record<string, string>;
}

/**
 * Compiles one Solidity file with the optimizer (200 runs) for Prague.
 * @returns its contracts by name and the compiler's wall time.
 * @throws Error with solc's messages if it reports an error (warnings are returned).
 */
export function compileSolidity(source: string, fileName = 'Contract.sol'): { contracts: Record<string, CompiledContract>; ms: number; warnings: string[] } {
  const input = {
    language: 'Solidity',
    sources: { [fileName]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] } },
    },
  };
  const t0 = performance.now();
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as { errors?: Array<{ severity: string; formattedMessage: string }>; contracts?: Record<string, Record<string, any>> };
  const ms = performance.now() - t0;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const contracts = Object.fromEntries(
    Object.entries(out.contracts?.[fileName] ?? {}).map(([name, c]) => [
      name,
      { abi: c.abi, bytecode: hexToBytes(`0x${c.evm.bytecode.object}`), deployedBytecode: hexToBytes(`0x${c.evm.deployedBytecode.object}`), methodIdentifiers: c.evm.methodIdentifiers },
    ]),
  );
  return { contracts, ms, warnings: (out.errors ?? []).filter((e) => e.severity !== 'error').map((e) => e.formattedMessage) };
}

/** The solc version that compiles (from the bundled soljson). */
export const solcVersion = (): string => solc.version();

export interface TxResult {
  /** The call reverted (or failed: out of gas, invalid opcode). */
  reverted: boolean;
  /** Return data, or revert data. */
  returnData: Uint8Array;
  /** Gas the transaction paid: intrinsic plus execution. */
  gas: bigint;
  /** Gas of execution alone (no intrinsic cost). */
  executionGas: bigint;
  /** The created contract's address, for a deployment. */
  created?: Address;
  /** Logs: [address, topics, data]. */
  logs: Array<[Uint8Array, Uint8Array[], Uint8Array]>;
  /** The EVM's error, if any (e.g. 'revert', 'out of gas'). */
  error?: string;
}

/** An externally owned account of the test chain. */
export interface Account {
  key: Uint8Array;
  address: Address;
  /** 0x-prefixed lower-case hex. */
  hex: string;
}

/**
 * A fresh chain with funded accounts. `send` runs one signed transaction in a block of its
 * own at the given timestamp (seconds); blocks need not be in time order (the tests travel
 * in time), which a real chain would refuse but the EVM does not see.
 */
export class TestChain {
  readonly common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
  private readonly nonces = new Map<string, bigint>();
  private block = 1n;
  private constructor(private readonly vm: VM) {}

  static async create(): Promise<TestChain> {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
    return new TestChain(await createVM({ common }));
  }

  /** A new account with 1,000 ether (its key derived from `seed`). */
  async account(seed: number): Promise<Account> {
    const key = new Uint8Array(32);
    new DataView(key.buffer).setUint32(28, seed + 1);
    key[0] = 0x5a;
    const address = createAddressFromPrivateKey(key);
    await this.vm.stateManager.putAccount(address, createAccount({ nonce: 0n, balance: 10n ** 21n }));
    this.nonces.set(address.toString(), 0n);
    return { key, address, hex: address.toString() };
  }

  /** Runs a transaction from `from` (to `to`, or a deployment when undefined). */
  async send(from: Account, to: Address | undefined, data: Uint8Array, opts: { timestamp?: bigint; gasLimit?: bigint } = {}): Promise<TxResult> {
    const nonce = this.nonces.get(from.address.toString()) ?? 0n;
    const tx = createLegacyTx({ nonce, gasPrice: 10n, gasLimit: opts.gasLimit ?? 10_000_000n, to, data }, { common: this.common }).sign(from.key);
    // The fields of a block header that runTx and the EVM read.
    const header = { number: this.block++, coinbase: createZeroAddress(), timestamp: opts.timestamp ?? 1_800_000_000n, difficulty: 0n, prevRandao: new Uint8Array(32), gasLimit: 60_000_000n, baseFeePerGas: 1n, gasUsed: 0n, getBlobGasPrice: () => 1n };
    const r = await runTx(this.vm, { tx, block: { common: this.common, header } as never });
    this.nonces.set(from.address.toString(), nonce + 1n);
    const ex = r.execResult;
    return {
      reverted: ex.exceptionError !== undefined,
      returnData: ex.returnValue,
      gas: r.totalGasSpent,
      executionGas: ex.executionGasUsed,
      created: r.createdAddress,
      logs: (r.receipt.logs ?? []) as TxResult['logs'],
      error: ex.exceptionError?.error,
    };
  }

  /**
   * Deploys creation bytecode with constructor arguments appended.
   * @throws Error if the deployment reverts (with its revert data in hex), unless `allowRevert`.
   */
  async deploy(from: Account, bytecode: Uint8Array, args: Uint8Array = new Uint8Array(), opts: { allowRevert?: boolean } = {}): Promise<TxResult & { address?: Address }> {
    const data = new Uint8Array(bytecode.length + args.length);
    data.set(bytecode);
    data.set(args, bytecode.length);
    const r = await this.send(from, undefined, data, { gasLimit: 30_000_000n });
    if (r.reverted && !opts.allowRevert) throw new Error(`deployment reverted (${r.error}): 0x${bytesToHex(r.returnData)}`);
    return { ...r, address: r.created };
  }

  /** The runtime code at an address. */
  async code(address: Address): Promise<Uint8Array> {
    return this.vm.stateManager.getCode(address);
  }
}
