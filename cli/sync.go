package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
)

func syncCmd() *cobra.Command {
	sync := &cobra.Command{Use: "sync", Short: "Bulk sync with Shopify"}
	var shop string
	var full bool
	run := &cobra.Command{
		Use:   "run --shop S [--full]",
		Short: "Export the shop's products, orders and inventory levels from Shopify (bulk operations) and record them as events, resuming the shop's unfinished run if there is one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if shop == "" {
				return errors.New("--shop is required")
			}
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			runID, err := app.SyncRun(cmd.Context(), cfg, log, shop, full, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sync run %s of %s completed\n", runID, shop)
			return nil
		},
	}
	run.Flags().StringVar(&shop, "shop", "", "the shop's myshopify domain (configured in STORELINE_SHOPIFY_SHOPS with an access token)")
	run.Flags().BoolVar(&full, "full", false, "export everything, not only what changed since the last sync")
	sync.AddCommand(run)
	return sync
}
