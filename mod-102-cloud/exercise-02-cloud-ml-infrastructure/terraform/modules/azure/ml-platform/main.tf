# Azure flavour of the platform (Azure ML reference architecture): a VNet with a private
# workloads subnet, Key Vault with a rotated key, a storage account (data + models
# containers), ACR, one managed identity per job with role assignments, the Azure ML
# workspace, a compute instance and a managed online endpoint (azapi: azurerm has none).
# Static only on these machines: the azurerm/azapi providers cannot be downloaded here.

data "azurerm_client_config" "current" {}

locals {
  prefix  = "${var.name}-${var.environment}"
  compact = replace(local.prefix, "-", "")
  tags = merge(var.labels, {
    platform    = var.name
    environment = var.environment
    managed-by  = "terraform"
  })
}

resource "azurerm_resource_group" "this" {
  name     = "${var.project}-${local.prefix}"
  location = var.region
  tags     = local.tags
}

resource "azurerm_virtual_network" "this" {
  name                = local.prefix
  resource_group_name = azurerm_resource_group.this.name
  location            = var.region
  address_space       = [var.network_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "private" {
  name                 = "${local.prefix}-private"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.network_cidr, 24 - tonumber(split("/", var.network_cidr)[1]), 10)]
  service_endpoints    = ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.ContainerRegistry"]
}

resource "azurerm_network_security_group" "workloads" {
  name                = "${local.prefix}-workloads"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.region
  tags                = local.tags
}

resource "azurerm_subnet_network_security_group_association" "private" {
  subnet_id                 = azurerm_subnet.private.id
  network_security_group_id = azurerm_network_security_group.workloads.id
}

resource "azurerm_key_vault" "this" {
  name                       = "${local.compact}kv"
  resource_group_name        = azurerm_resource_group.this.name
  location                   = var.region
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "premium"
  purge_protection_enabled   = true
  soft_delete_retention_days = var.deletion_protection ? 90 : 7
  enable_rbac_authorization  = true
  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    virtual_network_subnet_ids = [azurerm_subnet.private.id]
  }
  tags = local.tags
}

resource "azurerm_key_vault_key" "data" {
  name            = "${local.prefix}-data"
  key_vault_id    = azurerm_key_vault.this.id
  key_type        = "RSA-HSM"
  key_size        = 3072
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = "2030-01-01T00:00:00Z"
  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }
    expire_after         = "P365D"
    notify_before_expiry = "P29D"
  }
}

resource "azurerm_storage_account" "this" {
  name                            = "${local.compact}${var.project}"
  resource_group_name             = azurerm_resource_group.this.name
  location                        = var.region
  account_tier                    = "Standard"
  account_replication_type        = var.high_availability ? "ZRS" : "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false
  public_network_access_enabled   = false
  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 30
    }
  }
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.this["training"].id]
  }
  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.data.versionless_id
    user_assigned_identity_id = azurerm_user_assigned_identity.this["training"].id
  }
  tags = local.tags
}

resource "azurerm_storage_container" "this" {
  for_each              = toset(["data", "models"])
  name                  = each.key
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_container_registry" "this" {
  name                          = "${local.compact}acr"
  resource_group_name           = azurerm_resource_group.this.name
  location                      = var.region
  sku                           = "Premium"
  admin_enabled                 = false
  public_network_access_enabled = false
  zone_redundancy_enabled       = var.high_availability
  tags                          = local.tags
}

locals {
  jobs = {
    training = [{ scope = "storage", role = "Storage Blob Data Contributor" }, { scope = "acr", role = "AcrPull" }]
    serving  = [{ scope = "storage", role = "Storage Blob Data Reader" }, { scope = "acr", role = "AcrPull" }]
    ci       = [{ scope = "acr", role = "AcrPush" }, { scope = "workspace", role = "AzureML Data Scientist" }]
  }
  scopes = {
    storage   = azurerm_storage_account.this.id
    acr       = azurerm_container_registry.this.id
    workspace = azurerm_machine_learning_workspace.this.id
  }
  assignments = merge([for job, grants in local.jobs : { for g in grants : "${job}/${g.role}" => merge(g, { job = job }) }]...)
}

resource "azurerm_user_assigned_identity" "this" {
  for_each            = local.jobs
  name                = "${local.prefix}-${each.key}"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.region
  tags                = local.tags
}

resource "azurerm_role_assignment" "this" {
  for_each             = local.assignments
  scope                = local.scopes[each.value.scope]
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.this[each.value.job].principal_id
}

resource "azurerm_application_insights" "this" {
  name                = local.prefix
  resource_group_name = azurerm_resource_group.this.name
  location            = var.region
  application_type    = "web"
  tags                = local.tags
}

resource "azurerm_machine_learning_workspace" "this" {
  name                          = local.prefix
  resource_group_name           = azurerm_resource_group.this.name
  location                      = var.region
  application_insights_id       = azurerm_application_insights.this.id
  key_vault_id                  = azurerm_key_vault.this.id
  storage_account_id            = azurerm_storage_account.this.id
  container_registry_id         = azurerm_container_registry.this.id
  public_network_access_enabled = false
  high_business_impact          = var.environment == "prod"
  identity {
    type = "SystemAssigned"
  }
  encryption {
    key_vault_id = azurerm_key_vault.this.id
    key_id       = azurerm_key_vault_key.data.id
  }
  tags = local.tags
}

resource "azurerm_machine_learning_compute_instance" "notebook" {
  name                          = "${local.prefix}-nb"
  machine_learning_workspace_id = azurerm_machine_learning_workspace.this.id
  virtual_machine_size          = var.notebook_instance_type
  subnet_resource_id            = azurerm_subnet.private.id
  node_public_ip_enabled        = false
  authorization_type            = "personal"
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.this["training"].id]
  }
}

# Managed online endpoint + deployment: azurerm has no resource for them, azapi does.
resource "azapi_resource" "endpoint" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01"
  name      = "${local.prefix}-endpoint"
  parent_id = azurerm_machine_learning_workspace.this.id
  location  = var.region
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.this["serving"].id]
  }
  body = {
    properties = {
      authMode            = "AMLToken"
      publicNetworkAccess = "Disabled"
    }
  }
}

resource "azapi_resource" "deployment" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2024-04-01"
  name      = "primary"
  parent_id = azapi_resource.endpoint.id
  location  = var.region
  body = {
    sku = { name = "Default", capacity = var.serving_instance_count }
    properties = {
      endpointComputeType = "Managed"
      instanceType        = var.serving_instance_type
      environmentId       = var.model_image
      dataCollector = {
        collections = {
          model_inputs  = { dataCollectionMode = "Enabled" }
          model_outputs = { dataCollectionMode = "Enabled" }
        }
      }
    }
  }
}

resource "azurerm_monitor_action_group" "alerts" {
  name                = "${local.prefix}-alerts"
  resource_group_name = azurerm_resource_group.this.name
  short_name          = "mlalerts"
  dynamic "email_receiver" {
    for_each = var.alert_email == "" ? [] : [var.alert_email]
    content {
      name          = "oncall"
      email_address = email_receiver.value
    }
  }
  tags = local.tags
}

resource "azurerm_consumption_budget_resource_group" "monthly" {
  count             = var.enable_budget ? 1 : 0
  name              = "${local.prefix}-monthly"
  resource_group_id = azurerm_resource_group.this.id
  amount            = var.monthly_budget
  time_grain        = "Monthly"
  time_period {
    start_date = "2026-01-01T00:00:00Z"
  }
  notification {
    operator       = "GreaterThan"
    threshold      = 80
    contact_groups = [azurerm_monitor_action_group.alerts.id]
  }
  notification {
    operator       = "GreaterThan"
    threshold      = 100
    threshold_type = "Forecasted"
    contact_groups = [azurerm_monitor_action_group.alerts.id]
  }
}
