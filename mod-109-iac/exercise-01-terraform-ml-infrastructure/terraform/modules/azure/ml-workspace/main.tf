# An Azure Machine Learning workspace with what it needs: a user-assigned identity, a Key Vault
# (RBAC, purge protection, firewall) holding the customer-managed key the workspace encrypts
# with, a private storage account (no shared keys, no public blobs), Application Insights on
# a Log Analytics workspace, public network access off and a managed network for computes.

data "azurerm_client_config" "current" {}

resource "azurerm_user_assigned_identity" "workspace" {
  name                = "${var.name}-workspace"
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = var.tags
}

resource "azurerm_key_vault" "this" {
  name                          = "${var.name}-mlkv"
  resource_group_name           = var.resource_group_name
  location                      = var.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "premium"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = length(var.allowed_ip_ranges) > 0
  tags                          = var.tags
  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
    ip_rules       = var.allowed_ip_ranges
  }
}

resource "azurerm_role_assignment" "deployer_keys" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "workspace_keys" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.workspace.principal_id
}

resource "azurerm_key_vault_key" "workspace" {
  name            = "${var.name}-workspace"
  key_vault_id    = azurerm_key_vault.this.id
  key_type        = "RSA-HSM"
  key_size        = 3072
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = timeadd(plantimestamp(), "17520h")
  tags            = var.tags
  rotation_policy {
    expire_after         = "P2Y"
    notify_before_expiry = "P30D"
    automatic {
      time_before_expiry = "P60D"
    }
  }
  lifecycle {
    ignore_changes = [expiration_date]
  }
  depends_on = [azurerm_role_assignment.deployer_keys]
}

resource "azurerm_storage_account" "this" {
  name                            = "${var.name}mlstore"
  resource_group_name             = var.resource_group_name
  location                        = var.location
  account_tier                    = "Standard"
  account_replication_type        = "GZRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  public_network_access_enabled   = false
  tags                            = var.tags
  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
    ip_rules       = var.allowed_ip_ranges
  }
  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 30
    }
    container_delete_retention_policy {
      days = 30
    }
  }
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-ml-logs"
  resource_group_name = var.resource_group_name
  location            = var.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "this" {
  name                = "${var.name}-ml-insights"
  resource_group_name = var.resource_group_name
  location            = var.location
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "web"
  tags                = var.tags
}

resource "azurerm_machine_learning_workspace" "this" {
  name                           = "${var.name}-ml"
  resource_group_name            = var.resource_group_name
  location                       = var.location
  application_insights_id        = azurerm_application_insights.this.id
  key_vault_id                   = azurerm_key_vault.this.id
  storage_account_id             = azurerm_storage_account.this.id
  container_registry_id          = var.container_registry_id
  public_network_access_enabled  = false
  high_business_impact           = true
  v1_legacy_mode_enabled         = false
  sku_name                       = "Basic"
  primary_user_assigned_identity = azurerm_user_assigned_identity.workspace.id
  tags                           = var.tags
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.workspace.id]
  }
  encryption {
    key_vault_id              = azurerm_key_vault.this.id
    key_id                    = azurerm_key_vault_key.workspace.id
    user_assigned_identity_id = azurerm_user_assigned_identity.workspace.id
  }
  managed_network {
    isolation_mode = var.isolation_mode
  }
  depends_on = [azurerm_role_assignment.workspace_keys]
}
