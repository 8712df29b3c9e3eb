@{
    RootModule             = 'ModelSecurity.dll'
    ModuleVersion          = '0.1.0'
    CompatiblePSEditions   = @('Core')
    GUID                   = 'f33d59ed-0a18-4ea4-8a0f-9976f5d4aa5e'
    Author                 = 'ModelSecurity contributors'
    CompanyName            = 'ModelSecurity'
    Copyright              = '(c) ModelSecurity contributors. MIT License.'
    Description            = 'Protects people who download AI models (Hugging Face, Ollama, LM Studio) against the model supply chain: identifies what every model file really is, finds pickles that run code, disguised executables and tampered files, without loading or executing anything.'
    PowerShellVersion      = '7.4'
    TypesToProcess         = @('ModelSecurity.Types.ps1xml')
    FormatsToProcess       = @('ModelSecurity.Format.ps1xml')
    CmdletsToExport        = @(
        'Confirm-ModelHash'
        'Confirm-ModelSignature'
        'Export-McpServerLock'
        'Export-ModelReport'
        'Get-McpServer'
        'Get-ModelInventory'
        'Get-ModelSource'
        'Invoke-ModelSandbox'
        'New-ModelManifest'
        'New-ModelPolicy'
        'New-ModelSignature'
        'Test-McpServer'
        'Test-ModelFile'
        'Test-ModelPolicy'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('Security', 'AI', 'ML', 'LLM', 'Models', 'Pickle', 'GGUF', 'SafeTensors', 'SupplyChain', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://github.com/modelsecurity/ModelSecurity/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/modelsecurity/ModelSecurity'
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
