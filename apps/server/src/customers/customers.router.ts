import {
  bindCustomerInput,
  customersImported,
  getCustomerInput,
  importedCustomer,
  listUnresolvedCustomersInput,
  unbindCustomerInput,
  unresolvedCustomerPage,
} from "@billingos/contracts";
import { z } from "zod";
import { idempotentDeps } from "../trpc/idempotent-deps.js";
import { importProcedure } from "../trpc/import-procedure.js";
import { router, secretKeyProcedure, writeLimitedSecretKeyProcedure } from "../trpc/trpc.js";
import { unbindCustomer } from "./customer-unbinding.js";
import { actorOf, bindCustomerManually, getCustomer, importCustomers, listUnresolved } from "./customers.service.js";

export const customersRouter = router({
  import: importProcedure.mutation(async ({ ctx, input, path }) =>
    z.encode(customersImported, await importCustomers(idempotentDeps(ctx, path, input), ctx.apiKey, input)),
  ),

  listUnresolved: secretKeyProcedure
    .input(listUnresolvedCustomersInput)
    .query(async ({ ctx, input }) => z.encode(unresolvedCustomerPage, await listUnresolved(ctx, ctx.apiKey, input))),

  bind: writeLimitedSecretKeyProcedure
    .input(bindCustomerInput)
    .mutation(async ({ ctx, input, path }) =>
      z.encode(
        importedCustomer,
        await bindCustomerManually(idempotentDeps(ctx, path, input), ctx.apiKey, input, actorOf(ctx.apiKey)),
      ),
    ),

  unbind: writeLimitedSecretKeyProcedure
    .input(unbindCustomerInput)
    .mutation(async ({ ctx, input, path }) =>
      z.encode(
        importedCustomer,
        (await unbindCustomer(idempotentDeps(ctx, path, input), ctx.apiKey, input, actorOf(ctx.apiKey))).customer,
      ),
    ),

  get: secretKeyProcedure
    .input(getCustomerInput)
    .query(async ({ ctx, input }) => z.encode(importedCustomer, await getCustomer(ctx, ctx.apiKey, input))),
});
